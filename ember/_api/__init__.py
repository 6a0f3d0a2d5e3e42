"""Public functions by area (NOTE [ Public functions by area ] in ``_functional.py``)."""
