"""The checks a message passes before anything is taken, each a pure function.

submission.py runs them in order and turns a message PDU into a `Submission` (its text
octets, its part of a long message, its destinations as iSMS numbers), or a `Refusal` that
answers it with its status: udh.py (the UDH and SAR fields), numbers.py (destination
addresses), encoding.py and gsm7.py (data_coding and the text, decoded once the message is
whole).
"""
