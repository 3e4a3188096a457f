"""The ``tracker`` command line: thin commands that parse, call the package and print."""
