"""The local runner: module processes (:mod:`.supervisor`), edgeHub's routing and twins (:mod:`.bus`,
:mod:`.routes`), and the commands that talk to a running runner."""
