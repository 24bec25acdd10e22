"""Run the command line as ``python -m ics2conf``."""

from ics2conf.cli import main

if __name__ == "__main__":
    main()
