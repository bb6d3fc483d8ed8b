"""`cyberlog serve`: the store's reports, its sources, runs, rejects and clusters, and ad-hoc
SQL, as a read-only web app (Starlette on uvicorn; `pip install 'cyberlog[web]'`).

Nothing is fetched from elsewhere: each page is whole, its style inline, and every HTML
response says so in its Content-Security-Policy. Each request opens its own read-only
connection (`ingest.connect`), so the app holds no lock on the store between requests and
reads the snapshot while a nightly writes. See docs/serve.md.
"""
