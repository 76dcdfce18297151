"""Long messages: their parts in, one whole message out.

assembly.py (`LongMessages`) is what the pipeline calls: it keeps each part in the
reassembly store (reassembly.py), answers the parts that complete no message, hands on the
message a part completes, and keeps one whose completing part was answered "try again" for
the ESME's retry (retries.py).
"""
