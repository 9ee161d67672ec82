// MHD adapter.
