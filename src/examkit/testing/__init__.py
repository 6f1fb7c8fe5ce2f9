"""Tools for your own tests: signers of valid vendor webhooks and in-process fakes of vendor APIs.

Nothing here touches the network. The fakes plug into a :class:`requests.Session` as transport
adapters, so the real clients run unchanged against them::

    fake = FakeItep(...)
    client = ItepClient(api_key=..., signature_header=..., session=fake.session())

Each vendor has its own module (:mod:`examkit.testing.itep` and so on); :mod:`examkit.testing.http`
holds the adapter they share.
"""

__all__: list[str] = []
