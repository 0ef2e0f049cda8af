"""The catalog store: one incremental, content-keyed store under build, validate and query.

`store.incremental.load(root)` gives the catalog, rebuilding only the records whose files
changed; `store.querystore.open_store(root)` the on-disk pyoxigraph store of it, updated per
record; `store.dumps` writes catalog.trig/.ttl from serialized blocks kept per record file;
`store.delta` makes the catalog after a few edits from the version before (the live preview);
`store.reading` reads record files for the quick paths; `store.state` says where it lives
and serializes runs; `store.fingerprint` decides freshness by hashes. (Nothing is imported here, so that `validate` can use `store.state`
without importing the loader that imports `validate`.)
"""
