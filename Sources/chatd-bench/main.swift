// The load tool is built in a later commit.
