"""Characters: create a presenter from a prompt, finalize it, use it in videos (D13, D16)."""
