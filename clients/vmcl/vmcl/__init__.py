"""vmcl: the VMCloud command line (``vmcl <resource> <verb>``), built with typer and rich on the vmcloud SDK.

Start-up matters (``vmcl --help`` should answer in well under 300 ms): modules
here import only typer and the standard library at the top; the SDK (and
requests), rich and PyYAML are imported inside the functions that need them.
"""

__version__ = "0.1.0"
