//! What a notification looks like on each platform, and which platform a URL belongs to.
//!
//! Each body is the platform's documented incoming-webhook shape: Slack's `text` and `blocks`,
//! Discord's `embeds`, a Teams Adaptive Card message (what Teams workflows and connectors both
//! take), and for anything else a flat JSON object of the decision. What a notice carries came
//! from an agent, so it is treated as hostile text: secrets are redacted (§5.5) before anything
//! is rendered, Slack's control characters are escaped (an agent must not be able to write
//! `<!channel>`), Discord is told to resolve no mentions (`@everyone` in a command must not
//! ping anyone), and every field is cut to a length the platform accepts.

use serde_json::{json, Value};

use super::Notice;

/// Where a notification goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Platform {
    Slack,
    Discord,
    Teams,
    /// A generic JSON webhook.
    Webhook,
}

impl Platform {
    /// `platform:` as written in a policy; `auto` (or empty) looks at the URL. `None` for an
    /// unknown word.
    pub fn from_policy(word: &str, url: &str) -> Option<Platform> {
        match word.trim().to_ascii_lowercase().as_str() {
            "" | "auto" => Some(Platform::detect(url)),
            "slack" => Some(Platform::Slack),
            "discord" => Some(Platform::Discord),
            "teams" => Some(Platform::Teams),
            "webhook" | "generic" => Some(Platform::Webhook),
            _ => None,
        }
    }

    /// The platform a webhook URL belongs to, by its host.
    pub fn detect(url: &str) -> Platform {
        let host = host_of(url);
        let under = |domain: &str| host == domain || host.ends_with(&format!(".{domain}"));
        if host == "hooks.slack.com" {
            Platform::Slack
        } else if (under("discord.com") || under("discordapp.com"))
            && url.contains("/api/webhooks/")
        {
            Platform::Discord
        } else if under("webhook.office.com")
            || under("office.com") && url.contains("/webhook")
            || under("logic.azure.com")
            || under("powerplatform.com")
            || under("powerautomate.com")
        {
            Platform::Teams
        } else {
            Platform::Webhook
        }
    }

    /// The JSON body for `notice` (already redacted by the caller).
    pub fn body(self, notice: &Notice, suppressed: u32) -> Value {
        match self {
            Platform::Slack => slack(notice, suppressed),
            Platform::Discord => discord(notice, suppressed),
            Platform::Teams => teams(notice, suppressed),
            Platform::Webhook => webhook(notice, suppressed),
        }
    }
}

/// The lower-cased host of a URL (no user info, no port).
pub fn host_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let host = authority.rsplit('@').next().unwrap_or_default();
    let host = if host.starts_with('[') {
        host.split_inclusive(']').next().unwrap_or_default()
    } else {
        host.split(':').next().unwrap_or_default()
    };
    host.to_ascii_lowercase()
}

/// The headline: what rampart did.
fn title(notice: &Notice) -> String {
    let verb = match notice.action.as_str() {
        "deny" => "denied",
        "ask" => "asks approval for",
        "watch" => "flagged",
        other => other,
    };
    format!("Rampart {verb} {}", notice.tool)
}

fn suppressed_line(suppressed: u32) -> Option<String> {
    (suppressed > 0)
        .then(|| format!("({suppressed} more notifications were held back by the rate limit)"))
}

/// `text` cut to at most `max` characters, marking the cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Slack's mrkdwn control characters.
fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// The facts shown under the headline, skipping empty ones.
fn facts(notice: &Notice) -> Vec<(&'static str, &str)> {
    [
        ("Policy", notice.policy.as_str()),
        ("Message", notice.message.as_str()),
        ("Agent", notice.agent.as_str()),
        ("Session", notice.session.as_str()),
    ]
    .into_iter()
    .filter(|(_, v)| !v.is_empty())
    .collect()
}

fn slack(notice: &Notice, suppressed: u32) -> Value {
    let title = title(notice);
    let mut text = format!(
        "*{}*\n```{}```",
        slack_escape(&title),
        slack_escape(&cut(&notice.command, 2500))
    );
    for (name, value) in facts(notice) {
        text.push_str(&format!("\n*{name}:* {}", slack_escape(&cut(value, 300))));
    }
    if let Some(line) = suppressed_line(suppressed) {
        text.push_str(&format!("\n_{line}_"));
    }
    json!({
        "text": slack_escape(&format!("{title}: {}", cut(&notice.command, 200))),
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": cut(&text, 2900)}}],
    })
}

fn discord(notice: &Notice, suppressed: u32) -> Value {
    let colour = match notice.action.as_str() {
        "deny" => 0xD7_3A_49,
        "ask" => 0xDB_AB_09,
        _ => 0x3B_82_F6,
    };
    let fields: Vec<Value> = facts(notice)
        .into_iter()
        .map(|(name, value)| json!({"name": name, "value": cut(value, 1000), "inline": name != "Message"}))
        .collect();
    let mut description = format!(
        "```\n{}\n```",
        cut(&notice.command.replace("```", "'''"), 3900)
    );
    if let Some(line) = suppressed_line(suppressed) {
        description.push_str(&format!("\n{line}"));
    }
    json!({
        "username": "Rampart",
        "allowed_mentions": {"parse": []},
        "embeds": [{
            "title": cut(&title(notice), 250),
            "description": description,
            "color": colour,
            "fields": fields,
            "timestamp": notice.timestamp,
        }],
    })
}

fn teams(notice: &Notice, suppressed: u32) -> Value {
    let facts: Vec<Value> = facts(notice)
        .into_iter()
        .map(|(name, value)| json!({"title": name, "value": cut(value, 1000)}))
        .collect();
    let mut body = vec![
        json!({"type": "TextBlock", "size": "Medium", "weight": "Bolder", "wrap": true, "text": title(notice)}),
        json!({"type": "TextBlock", "fontType": "Monospace", "wrap": true, "text": cut(&notice.command, 2000)}),
        json!({"type": "FactSet", "facts": facts}),
    ];
    if let Some(line) = suppressed_line(suppressed) {
        body.push(json!({"type": "TextBlock", "isSubtle": true, "wrap": true, "text": line}));
    }
    json!({
        "type": "message",
        "attachments": [{
            "contentType": "application/vnd.microsoft.card.adaptive",
            "contentUrl": null,
            "content": {
                "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
                "type": "AdaptiveCard",
                "version": "1.4",
                "body": body,
            },
        }],
    })
}

fn webhook(notice: &Notice, suppressed: u32) -> Value {
    let mut body = json!({
        "action": notice.action,
        "tool": notice.tool,
        "command": notice.command,
        "policy": notice.policy,
        "message": notice.message,
        "agent": notice.agent,
        "session": notice.session,
        "timestamp": notice.timestamp,
    });
    if suppressed > 0 {
        if let Some(map) = body.as_object_mut() {
            map.insert("suppressed".into(), json!(suppressed));
        }
    }
    body
}

#[cfg(test)]
#[allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::indexing_slicing,
    clippy::panic
)]
mod tests {
    use super::*;

    fn notice(command: &str) -> Notice {
        Notice {
            action: "deny".into(),
            tool: "exec".into(),
            command: command.into(),
            policy: "block-destructive".into(),
            message: "Destructive command blocked".into(),
            agent: "claude-code".into(),
            session: "repo/main".into(),
            timestamp: "2026-12-04T10:00:00Z".into(),
        }
    }

    #[test]
    fn urls_name_their_platform() {
        let cases = [
            ("https://hooks.slack.com/services/T0/B0/x", Platform::Slack),
            ("https://discord.com/api/webhooks/1/abc", Platform::Discord),
            (
                "https://ptb.discordapp.com/api/webhooks/1/abc",
                Platform::Discord,
            ),
            (
                "https://contoso.webhook.office.com/webhookb2/x",
                Platform::Teams,
            ),
            (
                "https://prod-01.westus.logic.azure.com:443/workflows/x",
                Platform::Teams,
            ),
            (
                "https://hooks.slack.com.evil.example/services/x",
                Platform::Webhook,
            ),
            (
                "https://evil.example/?u=https://hooks.slack.com/",
                Platform::Webhook,
            ),
            ("http://127.0.0.1:8080/notify", Platform::Webhook),
        ];
        for (url, want) in cases {
            assert_eq!(Platform::detect(url), want, "{url}");
        }
        assert_eq!(
            Platform::from_policy("Slack", "http://x"),
            Some(Platform::Slack)
        );
        assert_eq!(
            Platform::from_policy("auto", "https://discord.com/api/webhooks/1/a"),
            Some(Platform::Discord)
        );
        assert_eq!(Platform::from_policy("pager", "http://x"), None);
        assert_eq!(host_of("https://user:pw@Example.COM:8443/x"), "example.com");
    }

    #[test]
    fn hostile_text_cannot_ping_or_break_out() {
        let n = notice("echo <!channel> @everyone ``` & done");
        let slack = Platform::Slack.body(&n, 0).to_string();
        assert!(!slack.contains("<!channel>"));
        assert!(slack.contains("&lt;!channel&gt;"));
        let discord = Platform::Discord.body(&n, 3);
        assert_eq!(discord["allowed_mentions"]["parse"], json!([]));
        let description = discord["embeds"][0]["description"].as_str().unwrap();
        assert_eq!(description.matches("```").count(), 2);
        assert!(description.contains("3 more notifications"));
        let teams = Platform::Teams.body(&n, 0);
        assert_eq!(teams["attachments"][0]["content"]["type"], "AdaptiveCard");
        let generic = Platform::Webhook.body(&n, 0);
        assert_eq!(generic["policy"], "block-destructive");
        assert!(generic.get("suppressed").is_none());
        let long = Platform::Discord.body(&notice(&"x".repeat(10_000)), 0);
        assert!(
            long["embeds"][0]["description"]
                .as_str()
                .unwrap()
                .chars()
                .count()
                < 4096
        );
    }
}
