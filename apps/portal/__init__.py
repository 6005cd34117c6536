"""Portal: the shell of the unified console (home, dashboard, layout) and demo data.

It is the top of the app stack: it may read every other app's selectors to
compose the dashboard, and nothing imports it.
"""
