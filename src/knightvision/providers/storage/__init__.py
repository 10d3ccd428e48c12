"""Where finished media lives: local files or an S3-compatible object store, behind one port."""
