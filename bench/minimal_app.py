"""Baseline for bench/article_page.py: a bare Flask app answering a page of a given size (or 304)."""

import os

from flask import Flask, Response, request

SIZE = int(os.environ.get("BENCH_PAGE_BYTES", "10000"))
BODY = ("<!doctype html><p>" + "x" * SIZE)[:SIZE]
ETAG = "baseline-etag"

app = Flask(__name__)


@app.get("/page")
def page() -> Response:
    if request.if_none_match.contains(ETAG):
        response = Response(status=304)
    else:
        response = Response(BODY, mimetype="text/html")
    response.set_etag(ETAG)
    return response
