"""The whole report model (figures plus analytics) that pages, charts and the JSON API are made from, and its cache."""
