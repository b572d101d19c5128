"""The stages of a probe as objects, and the context every stage works through.

``_context`` is the door (deadline, settings, connection openers with the probe's trust
decisions, record / skip / warn); ``_connect`` opens connections and finds the security
mode; ``_legs`` holds the six built-in stages; ``_optional`` DELIVERY, CAPACITY and an
app's own checks. Nothing here reaches back into the runner.
"""
