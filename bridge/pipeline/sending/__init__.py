"""A message's way to iSMS: its requests, its intent, and the slots they wait for.

requests.py builds one iSMS request per batch of destinations (with its sendid and type);
intents.py commits what is about to be asked before it leaves; sender.py sends each request
inside its account's slot (slots.py, urgent first) and never abandons one half-way.
"""
