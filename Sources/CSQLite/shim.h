/// The only file that includes <sqlite3.h> (Debian's libsqlite3-dev). SQLITE_TRANSIENT and
/// SQLITE_STATIC are cast macros Swift cannot import, so each gets one wrapper here. No logic lives in this file.
#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT: tells sqlite3_bind_* to copy the bytes before the call returns.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

/// SQLITE_STATIC: the bytes stay valid and unchanged until the binding is replaced.
static inline sqlite3_destructor_type csqlite_static(void) {
    return SQLITE_STATIC;
}

#endif
