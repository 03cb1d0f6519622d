"""Peer support groups: pairwise fan-out over one-to-one sessions (docs/protocol.md Part 3).

``ConfideClient.groups`` (:class:`confide_client.groups.manager.Groups`) is the API;
:mod:`.model` is what a device keeps, :mod:`.roster` the signed membership list,
:mod:`.fanout` the sending and :mod:`.inbound` the receiving side.
"""
