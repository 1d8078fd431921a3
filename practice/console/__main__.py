"""`python -m practice.console`: serve the coaches' console (CONSOLE_HOST, CONSOLE_PORT)."""

from practice.console.app import serve

if __name__ == "__main__":
    serve()
