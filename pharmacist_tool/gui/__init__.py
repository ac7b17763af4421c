"""The counselling window: the only part of the tool that imports Qt."""
