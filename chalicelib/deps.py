"""Lazily built services, one per process (a Lambda container reuses them across invocations).

Imports happen inside the functions so that a route only pays for what it uses at cold start.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from chalicelib.config import bucket_name, problems, queue_name, require_ready, settings

if TYPE_CHECKING:
    from chalicelib.compliance.best_efforts import BestEffortsAnswers
    from chalicelib.compliance.committees import CommitteeService
    from chalicelib.compliance.reattribution import Reattributions
    from chalicelib.compliance.remedies import HeldExcessRefunds, RedesignationRefunds
    from chalicelib.compliance.reviews import ReviewService
    from chalicelib.exports.service import ExportService
    from chalicelib.fec_reports.notices import NoticeService
    from chalicelib.fec_reports.service import ReportService
    from chalicelib.followups.actions import ActionService
    from chalicelib.followups.after import AfterService
    from chalicelib.followups.audience import AudienceService
    from chalicelib.followups.delivery import DeliveryService
    from chalicelib.followups.hosting import HostService
    from chalicelib.followups.ports import FollowupConfig
    from chalicelib.followups.texting import TextService
    from chalicelib.giving.deposits import Deposits
    from chalicelib.giving.express import ExpressService
    from chalicelib.giving.monthly import MonthlyControls
    from chalicelib.giving.offline_import import OfflineImport
    from chalicelib.giving.reconcile import Reconciler
    from chalicelib.giving.recurring import MonthlyGifts
    from chalicelib.giving.service import GivingService, Planner
    from chalicelib.notify.ses import SesMailer
    from chalicelib.notify.sms import SnsTexter
    from chalicelib.notify.sns import SnsVerifier
    from chalicelib.outbox.dispatcher import Dispatcher
    from chalicelib.outbox.fanout import Fanout, ShardWorker
    from chalicelib.outbox.model import Handler
    from chalicelib.pages.service import PageService
    from chalicelib.pages.supporters import SupporterService
    from chalicelib.payments.gateway import StripeGateway
    from chalicelib.payouts.service import PayoutService
    from chalicelib.portal.service import PortalService
    from chalicelib.reports.dashboard import Dashboard
    from chalicelib.reports.participation import ParticipationReport
    from chalicelib.reports.refcodes import RefcodeReports
    from chalicelib.sessions.service import SessionService
    from chalicelib.staff.auth import StaffAuth
    from chalicelib.staff.signin import SigninService
    from chalicelib.storage.committees import CommitteeRepository
    from chalicelib.storage.donations import DonationRepository
    from chalicelib.storage.followups import FollowupRepository
    from chalicelib.storage.outbox import OutboxRepository
    from chalicelib.storage.pages import PageRepository
    from chalicelib.storage.staff_keys import StaffKeyRepository
    from chalicelib.storage.switches import InvitationPause
    from chalicelib.tokens import Tokens


@lru_cache(maxsize=1)
def stripe_gateway() -> StripeGateway:
    from chalicelib.payments.gateway import StripeGateway

    s = require_ready()
    return StripeGateway(s.stripe_secret_key, s.stripe_webhook_secret, s.stripe_api_base,
                         s.webhook_tolerance_seconds)


@lru_cache(maxsize=1)
def job_stripe_gateway() -> StripeGateway:
    """Stripe for the background jobs (reconciler, payout reconciliation, excess refunds): every
    request first takes a token of the budget they share across containers
    (`STRIPE_REQUESTS_PER_SECOND`), so a busy job never crowds out intake at Stripe's limit."""
    from chalicelib.payments.gateway import StripeGateway
    from chalicelib.ratelimit import RequestBudget
    from chalicelib.storage.budgets import BudgetRepository

    s = require_ready()
    budget = RequestBudget("stripe", lambda: s.stripe_requests_per_second, BudgetRepository())
    return StripeGateway(s.stripe_secret_key, s.stripe_webhook_secret, s.stripe_api_base,
                         s.webhook_tolerance_seconds, budget=budget.take)


@lru_cache(maxsize=1)
def page_store() -> PageRepository:
    """The container's one page repository: its short-lived copies of pages are shared by
    intake and page views, and forgotten when a page is changed here."""
    from chalicelib.storage.pages import PageRepository

    s = settings()
    return PageRepository(s.counter_shards, s.page_cache_seconds)


@lru_cache(maxsize=1)
def page_service() -> PageService:
    require_ready()
    from chalicelib.pages.service import PageService
    from chalicelib.storage.asks import DonorGivingReader
    from chalicelib.storage.visits import VisitRepository

    s = settings()
    return PageService(page_store(), s.stripe_publishable_key,
                       visits=VisitRepository(s.counter_shards), donors=DonorGivingReader(),
                       committees=committees(), tokens=tokens, ab_min_sample=s.ab_min_sample,
                       followers=lambda page, by: supporters().follow(page, by))


@lru_cache(maxsize=1)
def supporters() -> SupporterService:
    """Supporters' own pages under a campaign page: starting, approval, the leaderboard."""
    require_ready()
    from chalicelib.pages.supporters import SupporterService

    s = settings()
    return SupporterService(page_store(), tokens, max_per_campaign=s.supporter_pages_max,
                            donations=donation_store(), base_url=s.public_base_url.rstrip("/"))


@lru_cache(maxsize=1)
def report_service() -> RefcodeReports:
    from chalicelib.reports.refcodes import RefcodeReports
    from chalicelib.storage.reports import RefcodeReportStore
    from chalicelib.storage.visits import VisitRepository

    s = settings()
    return RefcodeReports(RefcodeReportStore(s.ledger_shards), VisitRepository(s.counter_shards))


@lru_cache(maxsize=1)
def participation_report() -> ParticipationReport:
    from chalicelib.reports.participation import ParticipationReport
    from chalicelib.storage.followups import FollowupRepository
    from chalicelib.storage.reports import RefcodeReportStore

    require_ready()
    s = settings()
    return ParticipationReport(FollowupRepository(s.region, outbox_store()),
                               RefcodeReportStore(s.ledger_shards), supporters().owned_with_gifts,
                               page_title=lambda slug: page_service().get(slug).title)


@lru_cache(maxsize=1)
def dashboard() -> Dashboard:
    from chalicelib.reports.dashboard import Dashboard
    from chalicelib.storage.reports import RefcodeReportStore

    return Dashboard(page_service(), RefcodeReportStore(settings().ledger_shards))


@lru_cache(maxsize=1)
def donation_store() -> DonationRepository:
    from chalicelib.giving.velocity import VelocityLimits
    from chalicelib.storage.donations import DonationRepository
    from chalicelib.storage.velocity import VelocityRepository

    s = settings()
    velocity = VelocityRepository(VelocityLimits(
        s.velocity_window_seconds, s.declines_per_ip, s.declines_per_email, s.declines_per_card,
        s.intakes_per_ip, s.declines_per_donation, s.pending_per_ip))
    return DonationRepository(s.region, s.counter_shards, outbox_store(), s.ledger_shards,
                              s.pending_shards, velocity=velocity, committees=committees())


@lru_cache(maxsize=1)
def giving_service() -> GivingService:
    from chalicelib.giving.service import GivingService

    store = donation_store()
    return GivingService(store, page_store(), stripe_gateway(), committees(),
                         planners=planners(), velocity=store.velocity)


def offline_import() -> OfflineImport:
    """A CSV import of offline contributions, through the giving service's own entry."""
    from chalicelib.giving.offline_import import OfflineImport

    return OfflineImport(giving_service())


def deposits() -> Deposits:
    """Bank deposits of entered gifts and their reconciliation."""
    from chalicelib.giving.deposits import Deposits
    from chalicelib.storage.deposits import DepositRepository

    return Deposits(DepositRepository(donation_store()))


@lru_cache(maxsize=1)
def express_service() -> ExpressService:
    from chalicelib.giving.express import ExpressRules, ExpressService

    s = settings()
    return ExpressService(giving_service(), donation_store(), page_store(),
                          stripe_gateway(), tokens(),
                          ExpressRules(s.express_max_per_day, s.express_step_up_cents))


@lru_cache(maxsize=1)
def monthly_gifts() -> MonthlyGifts:
    from chalicelib.giving.recurring import MonthlyGifts

    return MonthlyGifts(donation_store(), stripe_gateway(), tokens())


def planners() -> list[Planner]:
    """What each payment state change sets in motion, written to the outbox with the change."""
    from datetime import timedelta

    from chalicelib.compliance.best_efforts import plan_best_efforts_request
    from chalicelib.compliance.withdrawal import ForgonePlanner
    from chalicelib.fec_reports.planning import plan_notice_check
    from chalicelib.followups.planning import FollowupPlanner

    followup = FollowupPlanner(timedelta(hours=settings().reminder_delay_hours))
    return [plan_best_efforts_request, followup, plan_notice_check, ForgonePlanner(committees())]


def outbox_handlers() -> dict[str, Handler]:
    """Who delivers each kind of outbox message."""
    from datetime import datetime, timedelta, timezone

    from chalicelib.compliance.best_efforts import BEST_EFFORTS_KIND, best_efforts_handler
    from chalicelib.compliance.excess import excess_refund_handler, refund_handler
    from chalicelib.compliance.remedies import REDESIGNATED_REFUND
    from chalicelib.compliance.reviews import REVIEW_REFUND
    from chalicelib.compliance.withdrawal import (
        FORGO_JOB,
        FORGONE_NOTICE,
        FORGONE_REFUND,
        PLAN_FORGONE,
        end_plan_handler,
        forgo_handler,
        forgone_refund_handler,
    )
    from chalicelib.fec_reports.planning import NOTICE_CHECK
    from chalicelib.giving.velocity import CANCEL_KIND, card_testing_cancel_handler
    from chalicelib.portal.service import PORTAL_MESSAGE
    from chalicelib.staff.signin import SIGNIN_MESSAGE
    from chalicelib.storage.exports import MovementLedger

    # Best-efforts requests go through the follow-ups' send path for transactional mail (the
    # send ledger; never to a suppressed address, whatever the donor chose about invitations).
    ask = best_efforts_handler(donation_store(), committees(), delivery().send_transactional, tokens(),
                               delivery().link, page_service().store)

    return {"refund_excess": excess_refund_handler(job_stripe_gateway()),
            CANCEL_KIND: card_testing_cancel_handler(job_stripe_gateway()),
            REVIEW_REFUND: refund_handler(job_stripe_gateway(), "review"),
            FORGONE_REFUND: forgone_refund_handler(refund_handler(job_stripe_gateway(), "forgone"),
                                                   donation_store()),
            REDESIGNATED_REFUND: refund_handler(job_stripe_gateway(), "redesignated"),
            FORGONE_NOTICE: delivery().deliver_forgone_notice,
            PLAN_FORGONE: end_plan_handler(job_stripe_gateway(), donation_store(),
                                           lambda: datetime.now(timezone.utc)),
            FORGO_JOB: forgo_handler(committees(), MovementLedger(settings().ledger_shards), donation_store(),
                                     outbox_store(), lambda: datetime.now(timezone.utc), page_store(),
                                     budget=timedelta(seconds=settings().forgo_seconds),
                                     redesignations=donation_store()),
            BEST_EFFORTS_KIND: ask, SIGNIN_MESSAGE: signin().deliver_link,
            PORTAL_MESSAGE: portal().deliver_link,
            NOTICE_CHECK: notice_service().check,
            **delivery().handlers(), **hosting().handlers(), **texting().handlers()}


@lru_cache(maxsize=1)
def best_efforts() -> BestEffortsAnswers:
    from datetime import datetime, timezone

    from chalicelib.compliance.best_efforts import BestEffortsAnswers

    return BestEffortsAnswers(donation_store(), committees(), tokens(),
                              lambda: datetime.now(timezone.utc))


@lru_cache(maxsize=1)
def redesignations() -> RedesignationRefunds:
    from datetime import datetime, timezone

    from chalicelib.compliance.remedies import RedesignationRefunds

    return RedesignationRefunds(donation_store(), tokens(), lambda: datetime.now(timezone.utc))


def reattributions() -> Reattributions:
    from chalicelib.clock import utcnow
    from chalicelib.compliance.reattribution import Reattributions

    return Reattributions(donation_store(), committees(), tokens(), utcnow)


def held_excess_refunds() -> HeldExcessRefunds:
    from chalicelib.clock import utcnow
    from chalicelib.compliance.remedies import HeldExcessRefunds

    return HeldExcessRefunds(donation_store(), committees(), utcnow)


@lru_cache(maxsize=1)
def reviews() -> ReviewService:
    from datetime import datetime, timezone

    from chalicelib.compliance.reviews import ReviewService

    return ReviewService(donation_store(), committees(), lambda: datetime.now(timezone.utc))


@lru_cache(maxsize=1)
def outbox_store() -> OutboxRepository:
    from chalicelib.storage.outbox import OutboxRepository

    return OutboxRepository(settings().outbox_shards)


@lru_cache(maxsize=1)
def dispatcher() -> Dispatcher:
    from datetime import datetime, timedelta, timezone

    from chalicelib.followups.planning import send_priority
    from chalicelib.outbox.dispatcher import Dispatcher

    s = settings()
    return Dispatcher(outbox_store(), outbox_handlers(), lambda: datetime.now(timezone.utc),
                      s.outbox_max_attempts, priority=send_priority,
                      time_limit=timedelta(seconds=s.drain_seconds))


@lru_cache(maxsize=1)
def drain_fanout() -> Fanout:
    from chalicelib.outbox.fanout import Fanout
    from chalicelib.storage.exports import SqsJobQueue

    s = settings()
    return Fanout(SqsJobQueue(queue_name("drain"), s.region, field="shard"), s.outbox_shards)


@lru_cache(maxsize=1)
def shard_worker() -> ShardWorker:
    from datetime import datetime, timedelta, timezone

    from chalicelib.outbox.fanout import ShardWorker

    return ShardWorker(dispatcher(), outbox_store(), lambda: datetime.now(timezone.utc),
                       timedelta(seconds=settings().drain_seconds))


@lru_cache(maxsize=1)
def reconciler() -> Reconciler:
    from datetime import datetime, timedelta, timezone

    from chalicelib.giving.reconcile import Reconciler

    s = settings()
    service = giving_service()
    return Reconciler(service, service.store, job_stripe_gateway(),  # type: ignore[arg-type]
                      lambda: datetime.now(timezone.utc),
                      stale_after=timedelta(seconds=s.pending_stale_seconds),
                      expire_after=timedelta(minutes=s.reservation_minutes))


@lru_cache(maxsize=1)
def committees() -> CommitteeRepository:
    from chalicelib.compliance.committees import CommitteeDefaults
    from chalicelib.storage.committees import CommitteeRepository

    s = settings()
    return CommitteeRepository(CommitteeDefaults(s.candidate_limit_cents, s.pac_limit_cents,
                                                 s.itemization_threshold_cents),
                               s.committee_cache_seconds, outbox=outbox_store(), region=s.region)


@lru_cache(maxsize=1)
def committee_service() -> CommitteeService:
    from datetime import datetime, timezone

    from chalicelib.compliance.committees import CommitteeService

    return CommitteeService(committees(), lambda: datetime.now(timezone.utc))


@lru_cache(maxsize=1)
def staff_auth() -> StaffAuth:
    from chalicelib.staff.auth import StaffAuth

    return StaffAuth(staff_keys())


@lru_cache(maxsize=1)
def staff_keys() -> StaffKeyRepository:
    from chalicelib.storage.staff_keys import StaffKeyRepository

    return StaffKeyRepository()


@lru_cache(maxsize=1)
def export_service() -> ExportService:
    from chalicelib.exports.service import ExportService
    from chalicelib.storage.exports import ExportJobRepository, MovementLedger, S3Files, SqsJobQueue
    from chalicelib.storage.payouts import PayoutRepository

    s = settings()
    return ExportService(ExportJobRepository(), MovementLedger(s.ledger_shards), committees(),
                         S3Files(bucket_name("exports"), s.region),
                         SqsJobQueue(queue_name("exports"), s.region),
                         payouts=PayoutRepository(s.region))


@lru_cache(maxsize=1)
def fec_report_service() -> ReportService:
    from chalicelib.fec_reports.service import ReportService
    from chalicelib.storage.exports import MovementLedger, S3Files, SqsJobQueue
    from chalicelib.storage.fec_reports import ReportRepository

    s = settings()
    return ReportService(ReportRepository(), MovementLedger(s.ledger_shards), committees(),
                         S3Files(bucket_name("exports"), s.region),
                         SqsJobQueue(queue_name("reports"), s.region, field="report_id"))


@lru_cache(maxsize=1)
def notice_service() -> NoticeService:
    from chalicelib.fec_reports.notices import NoticeService
    from chalicelib.storage.exports import MovementLedger, S3Files
    from chalicelib.storage.notices import NoticeRepository

    s = settings()
    return NoticeService(NoticeRepository(), MovementLedger(s.ledger_shards), committees(),
                         S3Files(bucket_name("exports"), s.region), staff_keys(),
                         lambda: delivery().send_once, s.public_base_url)


@lru_cache(maxsize=1)
def payout_service() -> PayoutService:
    from chalicelib.payouts.service import PayoutService
    from chalicelib.storage.exports import SqsJobQueue
    from chalicelib.storage.payouts import PayoutRepository

    s = settings()
    return PayoutService(PayoutRepository(s.region), job_stripe_gateway,
                         SqsJobQueue(queue_name("payouts"), s.region, field="payout_id"))


@lru_cache(maxsize=1)
def tokens() -> Tokens:
    from datetime import timedelta

    from chalicelib.tokens import EXPRESS, Tokens

    s = require_ready()
    return Tokens(s.token_secret, lifetimes={EXPRESS: timedelta(days=s.express_link_ttl_days)})


@lru_cache(maxsize=1)
def mailer() -> SesMailer:
    from chalicelib.notify.ses import SesAccount, SesMailer
    from chalicelib.ratelimit import RequestBudget
    from chalicelib.storage.budgets import BudgetRepository

    s = settings()
    # Every drain, in every container, sends within the account's MaxSendRate together; a
    # drain waits at most 2 s for a token, then defers the message (never a failure).
    budget = RequestBudget("ses", SesAccount(s.region).max_send_rate, BudgetRepository(),
                           shards=s.send_rate_shards, max_wait_seconds=2.0)
    return SesMailer(s.region, s.mail_from, s.ses_configuration_set, s.mail_mirror_dir,
                     budget=budget.take)


@lru_cache(maxsize=1)
def texter() -> SnsTexter:
    from chalicelib.notify.sms import SnsTexter

    s = settings()
    return SnsTexter(s.region, s.sms_sender_id, s.mail_mirror_dir)


@lru_cache(maxsize=1)
def texting() -> TextService:
    from email.utils import parseaddr

    from chalicelib.followups.texting import TextService

    s = settings()

    def committee_name(committee_id: str) -> str | None:
        committee = committees().get(committee_id)
        return committee.name if committee.name != committee.committee_id else None

    return TextService(delivery(), parseaddr(s.mail_from)[0] or "Groundswell", committee_name)


@lru_cache(maxsize=1)
def sms_verifier() -> SnsVerifier:
    """Inbound texts' SNS notifications: only the topics in `SMS_INBOUND_TOPICS`."""
    from chalicelib.notify import sns

    s = settings()
    return sns.SnsVerifier(s.sms_inbound_topics, allow_v1=s.sns_allow_signature_v1,
                           fetch=sns.fetch_https)


@lru_cache(maxsize=1)
def followup_store() -> FollowupRepository:
    """Actions, invitations, people and the send ledger: one repository for the follow-ups'
    services (actions, audience, delivery, hosting, after)."""
    from chalicelib.storage.followups import FollowupRepository

    return FollowupRepository(settings().region, outbox_store())


@lru_cache(maxsize=1)
def followup_config() -> FollowupConfig:
    from datetime import timedelta

    from chalicelib.followups.ports import FollowupConfig
    from chalicelib.giving.velocity import SignupLimits

    s = settings()
    return FollowupConfig(base_url=s.public_base_url, max_invitations=s.max_invitations,
                          reminder_delay=timedelta(hours=s.reminder_delay_hours),
                          signup_limits=SignupLimits(s.signup_window_seconds, s.signups_per_ip,
                                                     s.signups_per_network))


@lru_cache(maxsize=1)
def actions() -> ActionService:
    """Organizers' actions and the approval queue of supporters' proposals."""
    from chalicelib.followups.actions import ActionService

    return ActionService(followup_store(), followup_config())


@lru_cache(maxsize=1)
def audience() -> AudienceService:
    """Signups, RSVPs, unsubscribes, share links, SES feedback."""
    from chalicelib.followups.audience import AudienceService
    from chalicelib.storage.velocity import SignupCounters

    return AudienceService(followup_store(), tokens(), giving_service().store, page_store(),
                           followup_config(), signup_counters=SignupCounters(), pause=invitation_pause())


@lru_cache(maxsize=1)
def delivery() -> DeliveryService:
    """The follow-ups' outbox handlers and the one send path of every email and text."""
    from chalicelib.followups.delivery import DeliveryService

    return DeliveryService(followup_store(), mailer(), tokens(), giving_service().store, page_store(),
                           followup_config(), pause=invitation_pause(), texter=texter(),
                           supporter_link=lambda donor_id, slug: supporters().start_url(donor_id, slug))


@lru_cache(maxsize=1)
def invitation_pause() -> InvitationPause:
    """The complaint alarm's switch: the audience sets it, delivery reads it (one per container,
    so the container that paused sees it at once)."""
    from chalicelib.storage.switches import InvitationPause

    return InvitationPause()


@lru_cache(maxsize=1)
def after() -> AfterService:
    from chalicelib.followups.after import AfterService

    return AfterService(followup_store(), tokens())


@lru_cache(maxsize=1)
def hosting() -> HostService:
    from chalicelib.followups.hosting import HostService

    return HostService(followup_store(), tokens(), followup_config())


@lru_cache(maxsize=1)
def sns_verifier() -> SnsVerifier:
    from chalicelib.notify import sns

    s = settings()
    # `sns.fetch_https` is read when the verifier is built (not bound as a default): the seam
    # through which tests serve SNS's certificates from a local server.
    return sns.SnsVerifier(s.ses_notification_topics, allow_v1=s.sns_allow_signature_v1,
                           fetch=sns.fetch_https)


@lru_cache(maxsize=1)
def console_sessions() -> SessionService:
    """The staff console's sessions: cookie `gs_console` on /admin, CONSOLE_SESSION_HOURS long."""
    from datetime import timedelta

    from chalicelib.sessions.model import SessionKind
    from chalicelib.sessions.service import SessionService
    from chalicelib.storage.web_sessions import WebSessionRepository

    kind = SessionKind("console", "gs_console", "/admin",
                       timedelta(hours=settings().console_session_hours))
    return SessionService(WebSessionRepository(), kind)


@lru_cache(maxsize=1)
def signin() -> SigninService:
    from chalicelib.staff.signin import SigninService

    s = require_ready()
    return SigninService(staff_keys(), tokens, console_sessions(), lambda: s.token_secret,
                         s.public_base_url, lambda: delivery().send_once)


@lru_cache(maxsize=1)
def portal_sessions() -> SessionService:
    """The donor portal's sessions: cookie `gs_portal` on /me, PORTAL_SESSION_MINUTES long."""
    from datetime import timedelta

    from chalicelib.sessions.model import SessionKind
    from chalicelib.sessions.service import SessionService
    from chalicelib.storage.web_sessions import WebSessionRepository

    kind = SessionKind("portal", "gs_portal", "/me", timedelta(minutes=settings().portal_session_minutes))
    return SessionService(WebSessionRepository(), kind)


@lru_cache(maxsize=1)
def portal() -> PortalService:
    from datetime import timedelta

    from chalicelib.giving.velocity import SignupLimits
    from chalicelib.portal.service import PortalRules, PortalService
    from chalicelib.storage.asks import DonorGivingReader
    from chalicelib.storage.portal import PortalRepository
    from chalicelib.storage.velocity import SignupCounters

    s = require_ready()
    rules = PortalRules(timedelta(seconds=s.portal_link_gap_seconds),
                        SignupLimits(3600, s.portal_links_per_ip, 5 * s.portal_links_per_ip))
    return PortalService(PortalRepository(), donation_store(), DonorGivingReader(), committees(), tokens,
                         portal_sessions(), s.public_base_url, lambda: delivery().send_once,
                         followup_store, counters=SignupCounters(),
                         rules=rules, monthly=monthly_controls)


@lru_cache(maxsize=1)
def monthly_controls() -> MonthlyControls:
    from chalicelib.giving.monthly import MonthlyControls
    from chalicelib.storage.asks import DonorGivingReader

    return MonthlyControls(donation_store(), stripe_gateway(), stripe_gateway(), DonorGivingReader(),
                           committees())


def reset() -> None:
    """Forget built services and settings (tests that change the environment)."""
    for built in (stripe_gateway, job_stripe_gateway, page_store, page_service, donation_store,
                  giving_service, express_service, monthly_gifts, committee_service, staff_auth, staff_keys,
                  outbox_store, dispatcher, drain_fanout, shard_worker, committees,
                  export_service, fec_report_service, notice_service,
                  payout_service, reconciler, tokens, mailer, followup_store, followup_config, actions,
                  audience, delivery, invitation_pause, hosting, after, sns_verifier,
                  texter, texting, sms_verifier,
                  report_service, console_sessions, signin, portal_sessions, portal, dashboard, best_efforts,
                  reviews, settings, problems, monthly_controls, supporters, participation_report):
        built.cache_clear()
