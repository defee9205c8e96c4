/// The only file that includes <sqlite3.h> (Debian's libsqlite3-dev). SQLITE_TRANSIENT is a
/// cast macro Swift cannot import, so it gets one wrapper here. No logic lives in this file.
#ifndef CSQLITE_SHIM_H
#define CSQLITE_SHIM_H

#include <sqlite3.h>

/// SQLITE_TRANSIENT: tells sqlite3_bind_* to copy the bytes before the call returns.
static inline sqlite3_destructor_type csqlite_transient(void) {
    return SQLITE_TRANSIENT;
}

#endif
