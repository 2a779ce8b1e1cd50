// Replaced by the client library.
