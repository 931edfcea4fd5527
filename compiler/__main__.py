"""`python -m cnnc ...`: the same command line as `cnnc ...`."""
from cnnc.cli import entry

entry()
