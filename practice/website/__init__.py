"""The demo website: the practice's article with the chat widget on it (`make run`, port 8000)."""
