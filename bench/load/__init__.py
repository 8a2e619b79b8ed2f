"""Loading a checkpoint: time against torch and a plain read (load_time.py),
memory held after the load (load_memory.py)."""
