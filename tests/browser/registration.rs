//! A guardian's self-registration by SMS in Chromium (issue #17): from the demo ENT's login
//! page, « Je n'ai pas de compte », a wrong code, a wrong birth date, then the right ones, a
//! new password, and a login at the demo ENT; every page state passes axe-core.

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

async fn a_guardian_registers_by_sms_in_chromium_then_logs_in_at_the_demo_ent(backend: Backend) {
    let operator = SmsOperator::start().await;
    let op = demo_op_with(backend, |c| {
        operator.configure(c);
        c.selfservice.response_floor_ms = 50;
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
    type_into(&browser, "#code", &code).await;
    click(&browser, "button[value=code]").await;
    wait_for(&browser, "#naissance-1").await;
    axe::assert_no_violations(&browser, "registration: the birth dates").await;
    let mut dates = Vec::new();
    let mut seen = Vec::new();
    for child in op
        .app
        .durable
        .affiliations(&account.id)
        .await
        .unwrap()
        .children
    {
        if !seen.contains(&child.account_id) {
            let date = op.app.durable.pupil_birth_date(&child.account_id).await;
            dates.push(date.unwrap().unwrap());
            seen.push(child.account_id);
        }
    }
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
