"""Fault tests: what datapass does when a part fails. Nothing lost, nothing duplicated beyond the
stated at-least-once guarantee (README, "Notifications").

Where each fault of issue 11 is covered:
- database unavailable for a moment: test_database.py (this package);
- webhook receiver hanging or answering 500: test_webhook_faults.py (this package);
- Redis down during submissions: tests/notifications/test_delivery_real.py
  (test_redis_down_during_submit_and_approve_delays_but_loses_nothing);
- worker killed during deliveries: tests/notifications/test_delivery_real.py
  (test_a_worker_killed_mid_delivery_delivers_after_restart);
- two instructors deciding at once: tests/integration/test_services.py
  (test_two_instructors_deciding_at_once_one_wins_the_other_gets_a_conflict).
"""
