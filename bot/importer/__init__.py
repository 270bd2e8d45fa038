"""Importing chat history that desktop exporters wrote (MemoTrace/留痕 CSV and TXT, ChatLab
JSON/JSONL) as canonical events, through the real pipeline."""
