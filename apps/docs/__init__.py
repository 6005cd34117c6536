"""Docs: the platform's documentation, Markdown pages kept in the repository and served at /docs/.

Pages live in ``content/<slug>.md`` with front matter (title, section, order,
summary) and are discovered at each request (``selectors``). ``rendering``
turns Markdown into sanitised HTML with anchors and highlighted code;
``generated`` fills marker lines such as ``<!-- generated: catalogue-pricing -->``
from other apps' selectors; ``search`` answers /docs/search/. Other apps add a
page by adding a file; they never import this app.
"""
