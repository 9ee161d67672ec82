// Server library.
