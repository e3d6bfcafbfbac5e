"""genaicompare: compare language models side by side in the terminal.

Importing this package must stay cheap: no Textual, litellm or torch here.
"""

__version__ = "0.1.0"
