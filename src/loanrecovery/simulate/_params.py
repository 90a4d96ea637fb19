"""Every number of the generative story, in one place (money in US dollars).

The values are documented in ``docs/simulator.md``; tests and the benchmark read them
from here rather than repeating them.
"""

from __future__ import annotations

from loanrecovery.actions import ACTIONS

#: Days past due per missed monthly cycle (a loan ``k`` cycles behind is ``30 k`` days past due).
DAYS_PER_CYCLE = 30

# --------------------------------------------------------------------------- population
EMPLOYMENT_TYPES: tuple[str, ...] = ("Salaried", "Self-Employed", "Business Owner", "Unemployed")
EMPLOYMENT_SHARES: tuple[float, ...] = (0.57, 0.28, 0.11, 0.04)
#: Median monthly income (USD) and log-sd by employment type; Unemployed = benefit income.
INCOME_MEDIAN: tuple[float, ...] = (5000.0, 5500.0, 8000.0, 1500.0)
INCOME_LOGSD: tuple[float, ...] = (0.45, 0.65, 0.75, 0.35)
#: Mean of the latent creditworthiness z by employment type (z is N(mean, 1)).
Z_MEAN_BY_EMPLOYMENT: tuple[float, ...] = (0.15, -0.1, 0.0, -0.6)

LOAN_TYPES: tuple[str, ...] = ("Personal", "Home", "Auto", "Business", "Education")
#: Loan type shares (Personal, Home, Auto, Business, Education) for salaried and
#: unemployed borrowers, and for the self-employed and business owners.
LOAN_TYPE_SHARES: tuple[float, ...] = (0.43, 0.25, 0.20, 0.0, 0.12)
LOAN_TYPE_SHARES_SELF_EMPLOYED: tuple[float, ...] = (0.28, 0.20, 0.16, 0.32, 0.04)
SECURED_TYPES: frozenset[str] = frozenset({"Home", "Auto", "Business"})
#: Loan amount as a multiple of monthly income (median), log-sd, and tenure choices.
AMOUNT_INCOME_MULTIPLE: tuple[float, ...] = (3.0, 40.0, 6.0, 10.0, 5.0)
AMOUNT_LOGSD: tuple[float, ...] = (0.5, 0.35, 0.4, 0.6, 0.5)
TENURES: tuple[tuple[int, ...], ...] = (
    (12, 24, 36, 48, 60),
    (180, 240, 360),
    (36, 48, 60, 72),
    (24, 36, 48, 60, 84),
    (60, 84, 120),
)
#: Base annual interest rate (%) by type; risk-based pricing subtracts RATE_SCORE_SLOPE x score.
BASE_RATE: tuple[float, ...] = (13.0, 6.5, 8.5, 11.0, 7.5)
RATE_SCORE_SLOPE = 1.8
RATE_NOISE_SD = 0.6
#: Correlation of the lender's application score with the latent z.
SCORE_Z_LOADING = 0.7
#: Loan-to-value range at origination (secured types) and monthly collateral drift.
LTV_RANGE: dict[str, tuple[float, float]] = {
    "Home": (0.60, 0.92),
    "Auto": (0.75, 1.00),
    "Business": (0.50, 1.20),
}
COLLATERAL_DRIFT: dict[str, float] = {"Home": 0.002, "Auto": -0.012, "Business": -0.004}
#: Lender's underwriting cap on EMI / income.
MAX_AFFORDABILITY = 0.45
#: Seasoned loans: at most this many months of age at the start of the window.
MAX_SEASONING = 120
#: Months simulated before month 1 (not written) so the book starts with some arrears.
BURN_IN = 5
CONTACT_OPT_OUT_RATE = 0.05
#: Integer UTC offsets (US time zones, DST ignored) and their shares.
UTC_OFFSETS: tuple[int, ...] = (-10, -9, -8, -7, -6, -5, -4)
UTC_SHARES: tuple[float, ...] = (0.007, 0.005, 0.15, 0.07, 0.29, 0.468, 0.01)

# --------------------------------------------------------------------------- dynamics
#: Hidden financial stress: s' = rho s + sd eps + drift * in_episode.
STRESS_RHO = 0.85
STRESS_SD = 0.25
EPISODE_HAZARD = 0.014
EPISODE_END = 0.12
EPISODE_DRIFT = 0.25
#: Job loss: monthly hazard by employment type (times exp(-0.35 z)); re-employment rate.
JOB_LOSS_HAZARD: tuple[float, ...] = (0.002, 0.005, 0.004, 0.0)
JOB_LOSS_Z = 0.35
JOB_FIND = 0.15
#: Monthly prepayment hazard of a current loan.
PREPAY_HAZARD = 0.004
#: Payment propensity eta = ETA_BASE + ETA_Z z - ETA_STRESS s - ETA_AFF max(aff-AFF_FREE, 0)
#:   - ETA_JOBLESS jobless - ETA_DEPTH[min(cycles, 4)] - ETA_STRATEGIC [cycles>=2] (1 - cover)+
#:   + action effect.
ETA_BASE = 5.2
ETA_Z = 1.1
ETA_STRESS = 1.5
ETA_AFF = 4.0
AFF_FREE = 0.25
ETA_JOBLESS = 4.5
#: Penalty by cycles delinquent (0, 1, 2, 3, 4+): catching up gets harder with depth.
ETA_DEPTH: tuple[float, ...] = (0.0, 3.0, 3.2, 3.4, 3.7)
ETA_STRATEGIC = 1.0
#: Ordered-logit cut points: P(Y >= j) = sigmoid(eta - CUTS[j-1]);
#: Y = 0 nothing, 1 partial, 2 the installment, 3 installment + one cycle of arrears, 4 all due.
CUTS: tuple[float, ...] = (-2.5, 0.0, 0.8, 2.0)
#: Extra margin on the top cut point for loans 90+ days past due (a full cure needs the
#: borrower to find three or more installments at once).
DEEP_CURE_MARGIN = 1.5
#: Fraction of the installment paid by a partial payer: uniform on this range.
PARTIAL_RANGE = (0.2, 0.9)
#: Arrears below this fraction of the installment do not count as a missed cycle.
ARREARS_TOLERANCE = 0.05
#: Charge-off when cycles delinquent reach this (6 = 180 days past due).
CHARGE_OFF_CYCLES = 6
#: Decay of an action's effect on eta over the following months.
EFFECT_DECAY: tuple[float, ...] = (1.0, 0.7, 0.45, 0.25)

# --------------------------------------------------------------------------- collections
#: Fixed cost (USD) of each action, in ACTIONS order.
ACTION_FIXED_COST: dict[str, float] = {
    "Automated Reminder": 1.0,
    "SMS": 0.5,
    "Call": 8.0,
    "Settlement Offer": 50.0,
    "Restructured Plan": 80.0,
    "Field Visit": 60.0,
    "Agency Placement": 25.0,
    "Legal Notice": 150.0,
    "Legal Action": 1500.0,
}
#: Legal action also costs this share of the balance (court and lawyer fees).
LEGAL_ACTION_BALANCE_COST = 0.02
#: Agency commission on everything recovered in the 12 months after placement.
AGENCY_COMMISSION = 0.15
#: Months from a legal action to the forced sale of the collateral (if still 90+ DPD):
#: repossession of a car is quick, foreclosure on a home slow.
REPOSSESSION_LAG: dict[str, int] = {"Home": 9, "Auto": 3, "Business": 6}
#: A legal action can only start enforcement once the loan is at least this many cycles late.
ENFORCEMENT_MIN_CYCLES = 2
#: Cycles delinquent needed at the end of the lag for the sale to go ahead.
REPOSSESSION_MIN_CYCLES = 3
#: Share of current collateral value the lender nets from a forced sale.
REPOSSESSION_RECOVERY = 0.75
#: Settlement: share of the balance asked, by cycles at the offer (1, 2, 3+), unsecured/secured.
SETTLEMENT_SHARE_UNSECURED: tuple[float, ...] = (0.85, 0.72, 0.58)
SETTLEMENT_SHARE_SECURED: tuple[float, ...] = (0.92, 0.85, 0.75)
#: Settlement acceptance falls with log(amount / (income x exp(liquidity))) at this slope.
SETTLEMENT_REACH_SLOPE = -2.5
#: Restructure: months added to the remaining term; acceptance probability.
RESTRUCTURE_EXTENSION = 36
RESTRUCTURE_ACCEPT = 0.75
#: Months the recovery outcome is followed after an action.
RECOVERY_HORIZON = 12
#: Months of the default target after the snapshot.
DEFAULT_HORIZON = 6

ACTION_INDEX: dict[str, int] = {name: i for i, name in enumerate(ACTIONS)}
N_ACTIONS = len(ACTIONS)

#: Legacy policy: base log-odds of each action by stage (30-59, 60-89, 90+), ACTIONS order.
LEGACY_BASE: tuple[tuple[float, ...], ...] = (
    (1.6, 1.4, 1.4, -0.6, -0.3, 0.0, -1.0, -0.3, -1.6),
    (-0.6, -0.6, 1.1, 0.2, 0.5, 0.9, 0.3, 1.0, -0.6),
    (-1.2, -1.4, -0.4, 0.6, -0.1, 0.3, 1.3, 1.0, 1.2),
)
#: Harshness of each action (added to log-odds times the centred observable risk score).
LEGACY_HARSHNESS: tuple[float, ...] = (-1.0, -1.0, -0.5, 0.2, 0.0, 0.4, 0.6, 0.8, 1.2)
LEGACY_SCORE_SLOPE = 2.0
#: Floor probability mixed into the legacy choice so every action appears in every segment.
LEGACY_EXPLORE = 0.15
