"""One base class for the errors the assistant raises on purpose.

Each says in its message what went wrong and what to do. Front doors catch
``HipAssistantError`` alone (the CLI prints the message and exits 2); each
subclass also keeps the built-in class it always was (``ValueError``,
``RuntimeError``), so existing ``except`` clauses still hold.
"""


class HipAssistantError(Exception):
    """Base of every error the assistant raises on purpose."""
