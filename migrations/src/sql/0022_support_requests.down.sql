DROP TABLE support_request_copies;
DROP TABLE support_requests;
