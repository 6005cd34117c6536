"""``python -m vmcl``."""

from vmcl.main import main

main()
