"""Load-time and memory benchmarks: lnfast.load against torch and a plain
read (load_time.py), the memory a load holds (load_memory.py), mapped model
files (mapped_file.py)."""
