// Training library: see issue 4.
