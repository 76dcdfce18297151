"""What becomes of a message once iSMS answered (or a crash left it unanswered).

statuses.py maps iSMS results to SMPP statuses, answers.py folds a message's results into
its answer (message_ids.py names what iSMS left unnamed); settlement.py records every
message_id's fate for query_sm (records.py, message_store.py) and queues the receipts it owes
(receipts.py, receipt_outbox.py); unsettled.py settles, at start, what a crash left.
"""
