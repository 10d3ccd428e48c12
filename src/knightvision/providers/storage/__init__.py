"""Where finished media lives: local files now, S3-compatible later, behind one port."""
