"""Ad analysis: measured facts (``metrics``) and the timestamped ``breakdown`` built from them (D18)."""
