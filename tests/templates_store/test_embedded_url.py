"""The embedded server's url is kept in its data folder while it runs, for operator commands (the migration) that
must reach the same server: its socket lies in a temp folder that changes at every start."""
from templates_store.embedded import EmbeddedRedis


def test_the_url_file_names_the_running_server_and_goes_with_it(tmp_path):
    server = EmbeddedRedis(tmp_path / "redis").start()
    try:
        assert (tmp_path / "redis" / "url").read_text().strip() == server.url
        assert server.url.startswith("unix://") and server.running
    finally:
        server.stop()
    assert not (tmp_path / "redis" / "url").exists()
