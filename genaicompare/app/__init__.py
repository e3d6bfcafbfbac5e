"""Everything Textual lives here. Importing this package imports nothing heavy.

Build the app with :func:`genaicompare.app.app.make_app` (the CLI and the tests share it).
"""
