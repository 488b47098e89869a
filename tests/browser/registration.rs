//! A guardian's self-registration by SMS in Chromium (issue #17): from the demo ENT's login
//! page, « Je n'ai pas de compte », a wrong code, too many wrong codes, a code past its
//! lifetime (the injected clock moved), a wrong birth date, then the right ones, a new
//! password, and a login at the demo ENT; every page state passes axe-core.

use super::chromium::Chromium;
use super::common::sms::SmsOperator;
use super::common::Backend;
use super::{axe, click, demo_op_with, demo_result, open_login_page, submit_login, wait_for};
use educonnect::maintenance::deliver_once;

const PASSWORD: &str = "Tournesol-Bleu-42";

crate::on_both_backends!(a_guardian_registers_by_sms_in_chromium_then_logs_in_at_the_demo_ent);

async fn type_into(browser: &Chromium, css: &str, text: &str) {
    let field = wait_for(browser, css).await;
    field.clear().await.unwrap();
    field.send_keys(text).await.unwrap();
}

/// Waits until the page's alert says `text` (the page after a submission, not the one before).
async fn alert_says(browser: &Chromium, text: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    loop {
        if let Ok(alert) = browser
            .find(fantoccini::Locator::Css("#erreur-inscription"))
            .await
        {
            if alert.text().await.is_ok_and(|t| t.contains(text)) {
                return;
            }
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no alert saying {text:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Waits until the page has no element `css` (a new page, after a submission).
async fn wait_gone(browser: &Chromium, css: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while browser.find(fantoccini::Locator::Css(css)).await.is_ok() {
        assert!(std::time::Instant::now() < deadline, "{css} still there");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    wait_for(browser, "#code").await;
}

async fn a_guardian_registers_by_sms_in_chromium_then_logs_in_at_the_demo_ent(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = demo_op_with(backend, |c| {
        operator.configure(c);
        c.selfservice.response_floor_ms = 50;
        // The code's own tries are what this test exhausts, not the throttle behind them.
        c.throttle.failures_per_account = 50;
    })
    .await;
    let account = op
        .app
        .durable
        .guardians_by_siecle_mobile("0639980103")
        .await
        .unwrap()
        .remove(0);
    let browser = Chromium::start().await;
    open_login_page(&browser, &op).await;
    click(&browser, "a[href^='/inscription']").await;
    wait_for(&browser, "#mobile").await;
    axe::assert_no_violations(&browser, "registration: the number").await;
    type_into(&browser, "#mobile", "06 39 98 01 03").await;
    click(&browser, "form button[type=submit]").await;
    wait_for(&browser, "#code").await;
    axe::assert_no_violations(&browser, "registration: the code").await;
    deliver_once(&op.app).await.unwrap();
    let code = operator.last_code_sent_to("+33639980103").expect("an SMS");
    let wrong = if code == "000000" { "111111" } else { "000000" };
    type_into(&browser, "#code", wrong).await;
    click(&browser, "button[value=code]").await;
    wait_for(&browser, "#erreur-inscription").await;
    axe::assert_no_violations(&browser, "registration: a wrong code").await;
    // Too many wrong codes: the code is spent, even the right one is refused now.
    let attempts = op.app.config.codes.attempts_per_code;
    for left in (1..attempts - 1).rev() {
        type_into(&browser, "#code", wrong).await;
        click(&browser, "button[value=code]").await;
        alert_says(&browser, &format!("Il vous reste {left} essai")).await;
    }
    type_into(&browser, "#code", wrong).await;
    click(&browser, "button[value=code]").await;
    alert_says(&browser, "plus valable").await;
    type_into(&browser, "#code", &code).await;
    click(&browser, "button[value=code]").await;
    alert_says(&browser, "plus valable").await;
    axe::assert_no_violations(&browser, "registration: too many wrong codes").await;
    // A new code, typed after its lifetime: refused as well.
    click(&browser, "button[value=resend]").await;
    wait_gone(&browser, "#erreur-inscription").await;
    deliver_once(&op.app).await.unwrap();
    let second = operator
        .last_code_sent_to("+33639980103")
        .expect("a second SMS");
    op.clock.advance(std::time::Duration::from_secs(
        op.app.config.codes.ttl_seconds + 1,
    ));
    type_into(&browser, "#code", &second).await;
    click(&browser, "button[value=code]").await;
    alert_says(&browser, "plus valable").await;
    axe::assert_no_violations(&browser, "registration: an expired code").await;
    // A third code, in time: it opens the next step.
    click(&browser, "button[value=resend]").await;
    wait_gone(&browser, "#erreur-inscription").await;
    deliver_once(&op.app).await.unwrap();
    let code = operator
        .last_code_sent_to("+33639980103")
        .expect("a third SMS");
    type_into(&browser, "#code", &code).await;
    click(&browser, "button[value=code]").await;
    wait_for(&browser, "#naissance-1").await;
    axe::assert_no_violations(&browser, "registration: the birth dates").await;
    let dates = op.birth_dates(&account.id).await;
    let set_dates = |dates: Vec<String>| {
        let browser = &browser;
        async move {
            for (i, date) in dates.iter().enumerate() {
                let script = format!(
                    "document.getElementById('naissance-{}').value = '{date}'",
                    i + 1
                );
                browser.execute(&script, vec![]).await.unwrap();
            }
            click(browser, "form button[type=submit]").await;
        }
    };
    set_dates(vec!["1990-01-01".to_owned(); dates.len()]).await;
    wait_for(&browser, "#erreur-inscription").await;
    axe::assert_no_violations(&browser, "registration: a wrong birth date").await;
    set_dates(dates).await;
    wait_for(&browser, "#confirm").await;
    axe::assert_no_violations(&browser, "registration: the password").await;
    type_into(&browser, "#password", PASSWORD).await;
    type_into(&browser, "#confirm", PASSWORD).await;
    click(&browser, "form button[type=submit]").await;
    let shown = wait_for(&browser, "#identifiant")
        .await
        .text()
        .await
        .unwrap();
    assert_eq!(shown, account.login);
    axe::assert_no_violations(&browser, "registration: done").await;
    click(&browser, "a[href^='/login?tx=']").await;
    submit_login(&browser, &account.login, PASSWORD).await;
    let (claims, _) = demo_result(&browser).await;
    assert_eq!(claims["sub"], account.id.as_str());
}
