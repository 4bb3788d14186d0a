DROP TABLE stripe_events;
DROP TABLE billing_invoices;
DROP TABLE brainbits_user_quotas;
DROP TABLE brainbits_ledger;
DROP TABLE billing_accounts;
