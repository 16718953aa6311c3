"""The platform sandbox: X API v2, Graph API and mail, served on 127.0.0.1 from sample traffic.

The real clients (tweepy, facebook-sdk, imaplib/smtplib) talk to it in the demo and the tests,
so their request building, paging and parsing run for real. See ``server.py`` to start one.
"""
