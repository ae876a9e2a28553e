"""Find Egg apps in a directory and describe their layout (no parsing of JS here)."""
