/**
 * Framework catalogues as data: each a versioned list of controls. An
 * automated control names a check (Checks.ts) and its parameters; a manual
 * control takes attestations. Mappings are this plugin's reading of the
 * frameworks for a remote-desktop platform, not legal advice: see
 * docs/plugins/compliance.md for what each check can and cannot show.
 */

export type FrameworkId = "SOC2" | "HIPAA" | "GDPR" | "ISO27001"
export const frameworkIds: ReadonlyArray<FrameworkId> = ["SOC2", "HIPAA", "GDPR", "ISO27001"]

export interface Control {
  readonly id: string
  readonly title: string
  readonly category: string
  readonly description: string
  /** Absent: a manual control, evidenced by attestation. */
  readonly check?: { readonly id: CheckId; readonly params?: { readonly days?: number; readonly max?: number } }
}

export interface Framework {
  readonly id: FrameworkId
  readonly name: string
  readonly version: string
  readonly catalogueVersion: number
  readonly controls: ReadonlyArray<Control>
}

export type CheckId =
  | "admin-mfa"
  | "mfa-policy-admins"
  | "password-policy"
  | "audit-retention"
  | "secrets-sealed"
  | "idle-timeout"
  | "stale-accounts"
  | "api-key-expiry"
  | "plugin-roles-confined"
  | "admin-count"
  | "dlp-file-inspection"
  | "violations-triaged"
  | "session-limits"
  | "recording-privileged"
  | "data-retention-configured"

const manual = (id: string, title: string, category: string, description: string): Control => ({
  id,
  title,
  category,
  description
})

export const frameworks: ReadonlyArray<Framework> = [
  {
    id: "SOC2",
    name: "SOC 2 (Trust Services Criteria)",
    version: "2017 TSC, 2022 points of focus",
    catalogueVersion: 1,
    controls: [
      {
        id: "CC6.1-MFA",
        title: "Administrators use multi-factor authentication",
        category: "Logical access",
        description: "Every admin account has a second factor enrolled.",
        check: { id: "admin-mfa" }
      },
      {
        id: "CC6.1-POLICY",
        title: "MFA is enforced at sign-in for administrators",
        category: "Logical access",
        description: "An enabled blocking policy requires MFA for the admin role (or everyone).",
        check: { id: "mfa-policy-admins" }
      },
      {
        id: "CC6.1-PWD",
        title: "Password policy",
        category: "Logical access",
        description: "Minimum length ≥ 12 and breached/weak passwords refused.",
        check: { id: "password-policy" }
      },
      {
        id: "CC6.2",
        title: "Stale accounts are removed",
        category: "Logical access",
        description: "No enabled account unused for 90 days.",
        check: { id: "stale-accounts", params: { days: 90 } }
      },
      {
        id: "CC6.3",
        title: "Privileged access is limited",
        category: "Logical access",
        description: "Between 1 and 5 administrators.",
        check: { id: "admin-count", params: { max: 5 } }
      },
      {
        id: "CC6.6",
        title: "API keys expire",
        category: "Logical access",
        description: "No active API key without an expiry.",
        check: { id: "api-key-expiry" }
      },
      {
        id: "CC6.7",
        title: "Data transfers are inspected",
        category: "Data protection",
        description:
          "File transfers of everyone are inspected for card numbers or SSNs by a warning or blocking policy.",
        check: { id: "dlp-file-inspection" }
      },
      {
        id: "CC6.8",
        title: "Plugin database roles are confined",
        category: "System operations",
        description: "Plugin roles have no rights on core tables.",
        check: { id: "plugin-roles-confined" }
      },
      {
        id: "CC7.2",
        title: "Audit log is retained",
        category: "Monitoring",
        description: "Audit log retention ≥ 365 days.",
        check: { id: "audit-retention", params: { days: 365 } }
      },
      {
        id: "CC7.3",
        title: "Security events are triaged",
        category: "Monitoring",
        description: "No high or critical violation open for more than 7 days.",
        check: { id: "violations-triaged", params: { days: 7 } }
      },
      {
        id: "CC6.1-SECRETS",
        title: "Integration secrets are sealed",
        category: "Data protection",
        description: "Webhook and integration secrets are encrypted at rest.",
        check: { id: "secrets-sealed" }
      },
      manual(
        "CC1.4",
        "Security awareness training",
        "Control environment",
        "Staff with access complete security training yearly."
      ),
      manual("CC9.2", "Vendor risk management", "Risk mitigation", "Vendors and sub-processors are assessed.")
    ]
  },
  {
    id: "HIPAA",
    name: "HIPAA Security Rule",
    version: "45 CFR 164 Subpart C",
    catalogueVersion: 1,
    controls: [
      {
        id: "164.312(d)",
        title: "Person or entity authentication",
        category: "Technical safeguards",
        description: "Administrators authenticate with a second factor.",
        check: { id: "admin-mfa" }
      },
      {
        id: "164.312(b)",
        title: "Audit controls",
        category: "Technical safeguards",
        description: "Audit log retained ≥ 6 years (2190 days).",
        check: { id: "audit-retention", params: { days: 2190 } }
      },
      {
        id: "164.312(a)(2)(iii)",
        title: "Automatic logoff",
        category: "Technical safeguards",
        description: "Idle sessions are hibernated after a timeout.",
        check: { id: "idle-timeout" }
      },
      {
        id: "164.312(a)(1)",
        title: "Access control",
        category: "Technical safeguards",
        description: "Privileged access limited to at most 5 administrators.",
        check: { id: "admin-count", params: { max: 5 } }
      },
      {
        id: "164.312(e)(1)",
        title: "Transmission security",
        category: "Technical safeguards",
        description: "File transfers are inspected for identifiers.",
        check: { id: "dlp-file-inspection" }
      },
      {
        id: "164.308(a)(1)(ii)(D)",
        title: "Information system activity review",
        category: "Administrative safeguards",
        description: "Violations are reviewed within 7 days.",
        check: { id: "violations-triaged", params: { days: 7 } }
      },
      {
        id: "164.308(a)(3)",
        title: "Workforce security: privileged sessions recorded",
        category: "Administrative safeguards",
        description: "Sessions of privileged roles are recorded.",
        check: { id: "recording-privileged" }
      },
      manual(
        "164.308(a)(5)",
        "Security awareness and training",
        "Administrative safeguards",
        "Workforce training programme."
      ),
      manual(
        "164.308(a)(7)",
        "Contingency plan",
        "Administrative safeguards",
        "Backups, disaster recovery and emergency mode plans."
      )
    ]
  },
  {
    id: "GDPR",
    name: "GDPR",
    version: "Regulation (EU) 2016/679",
    catalogueVersion: 1,
    controls: [
      {
        id: "Art.32(1)(b)-MFA",
        title: "Security of processing: strong authentication",
        category: "Security",
        description: "Administrators use a second factor.",
        check: { id: "admin-mfa" }
      },
      {
        id: "Art.32-SECRETS",
        title: "Security of processing: secrets encrypted",
        category: "Security",
        description: "Integration secrets sealed at rest.",
        check: { id: "secrets-sealed" }
      },
      {
        id: "Art.5(1)(e)",
        title: "Storage limitation",
        category: "Principles",
        description: "Compliance data has a retention period.",
        check: { id: "data-retention-configured" }
      },
      {
        id: "Art.25",
        title: "Data protection by design",
        category: "Design",
        description: "Personal data in transfers is inspected.",
        check: { id: "dlp-file-inspection" }
      },
      {
        id: "Art.33",
        title: "Breach detection and triage",
        category: "Breaches",
        description: "High or critical violations triaged within 3 days.",
        check: { id: "violations-triaged", params: { days: 3 } }
      },
      manual("Art.30", "Records of processing activities", "Accountability", "A record of processing is kept."),
      manual("Art.35", "Data protection impact assessment", "Accountability", "A DPIA exists for high-risk processing.")
    ]
  },
  {
    id: "ISO27001",
    name: "ISO/IEC 27001 Annex A",
    version: "2022",
    catalogueVersion: 1,
    controls: [
      {
        id: "A.5.15",
        title: "Access control",
        category: "Organizational",
        description: "At most 5 administrators.",
        check: { id: "admin-count", params: { max: 5 } }
      },
      {
        id: "A.5.17",
        title: "Authentication information",
        category: "Organizational",
        description: "Password policy enforced.",
        check: { id: "password-policy" }
      },
      {
        id: "A.5.18",
        title: "Access rights review",
        category: "Organizational",
        description: "No account unused for 90 days.",
        check: { id: "stale-accounts", params: { days: 90 } }
      },
      {
        id: "A.8.2",
        title: "Privileged access rights",
        category: "Technological",
        description: "Plugin roles are confined.",
        check: { id: "plugin-roles-confined" }
      },
      {
        id: "A.8.5",
        title: "Secure authentication",
        category: "Technological",
        description: "Administrators use a second factor.",
        check: { id: "admin-mfa" }
      },
      {
        id: "A.8.12",
        title: "Data leakage prevention",
        category: "Technological",
        description: "File transfers inspected by DLP.",
        check: { id: "dlp-file-inspection" }
      },
      {
        id: "A.8.15",
        title: "Logging",
        category: "Technological",
        description: "Audit log retained ≥ 365 days.",
        check: { id: "audit-retention", params: { days: 365 } }
      },
      {
        id: "A.5.24",
        title: "Incident management",
        category: "Organizational",
        description: "Violations triaged within 7 days.",
        check: { id: "violations-triaged", params: { days: 7 } }
      },
      {
        id: "A.8.16",
        title: "Monitoring: session limits",
        category: "Technological",
        description: "Session duration or concurrency is limited for everyone.",
        check: { id: "session-limits" }
      },
      manual("A.6.3", "Information security awareness", "People", "Awareness, education and training."),
      manual("A.5.30", "ICT readiness for business continuity", "Organizational", "Continuity plans are tested.")
    ]
  }
]

export const frameworkById = (id: string) => frameworks.find((f) => f.id === id)
