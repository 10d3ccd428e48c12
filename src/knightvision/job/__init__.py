"""Jobs: the jobs table is the queue (D14, D20)."""
