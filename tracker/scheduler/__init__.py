"""The service that keeps the tracker current: scheduled jobs, one leader, a job-run log.

``schedules`` says when each job is due (pure functions of time and the exchange calendar),
``jobs`` names the jobs, ``runner`` runs one (job, scheduled-for) at most once and logs it,
``leader`` elects one leader per database, ``service`` drives the jobs with APScheduler,
``replay`` drives the same jobs on a simulated clock, ``health`` and ``status`` report on it.
"""
