//! The verdict as JUnit XML for CI test-report tabs: one testsuite per policy, one testcase
//! per checked threshold (per series for multi-series queries). FAIL and blocking NO DATA are
//! failures carrying the reason; SKIPPED is skipped; WARN passes with the warning in its output.
//! Every text from outside goes through `escape::xml` (XML 1.0 forbids most C0 controls even
//! as references); quick-xml then escapes the markup characters.

use quick_xml::events::{BytesDecl, BytesEnd, BytesStart, BytesText, Event};
use quick_xml::Writer;

use crate::escape::xml;
use crate::policy::verdict::{Status, Verdict};

pub fn render(verdict: &Verdict, generated_at: &str) -> String {
    let counts = verdict.counts();
    let failures = verdict.rows.iter().filter(|r| r.blocking).count();
    let skipped = counts.skipped;
    let tests = verdict.rows.len().to_string();
    let (failures, skipped) = (failures.to_string(), skipped.to_string());
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    let write =
        |writer: &mut Writer<Vec<u8>>, event: Event| writer.write_event(event).expect("writing into a Vec cannot fail");
    write(&mut writer, Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)));
    let mut suites = BytesStart::new("testsuites");
    suites.push_attribute(("name", "gatecheck"));
    suites.push_attribute(("tests", tests.as_str()));
    suites.push_attribute(("failures", failures.as_str()));
    suites.push_attribute(("errors", "0"));
    suites.push_attribute(("skipped", skipped.as_str()));
    write(&mut writer, Event::Start(suites));
    let mut suite = BytesStart::new("testsuite");
    let suite_name = xml(&format!("policy {}", verdict.policy));
    suite.push_attribute(("name", suite_name.as_str()));
    suite.push_attribute(("tests", tests.as_str()));
    suite.push_attribute(("failures", failures.as_str()));
    suite.push_attribute(("errors", "0"));
    suite.push_attribute(("skipped", skipped.as_str()));
    suite.push_attribute(("timestamp", generated_at));
    write(&mut writer, Event::Start(suite));

    write(&mut writer, Event::Start(BytesStart::new("properties")));
    let mut properties = vec![("policy_source".to_string(), verdict.policy_source.clone())];
    properties.extend(verdict.evidence.iter().map(|e| ("evidence".to_string(), e.clone())));
    if let Some(at) = &verdict.evaluated_at {
        properties.push(("evaluated_at".into(), at.clone()));
    }
    properties.push(("tool".into(), crate::policy::verdict::TOOL.into()));
    if let Some(at) = &verdict.judged_at {
        properties.push(("judged_at".into(), at.clone()));
    }
    properties.extend(
        verdict
            .inputs
            .iter()
            .map(|i| (format!("input.{}", i.role), format!("{} sha256:{} ({} bytes)", i.path, i.sha256, i.bytes))),
    );
    for (name, value) in &properties {
        let mut property = BytesStart::new("property");
        property.push_attribute(("name", name.as_str()));
        property.push_attribute(("value", xml(value).as_str()));
        write(&mut writer, Event::Empty(property));
    }
    write(&mut writer, Event::End(BytesEnd::new("properties")));

    for row in &verdict.rows {
        let mut case = BytesStart::new("testcase");
        let classname = xml(&format!("{}.{}", verdict.policy, row.gate));
        let name = xml(&match &row.series {
            Some(series) => format!("{} {series}", row.check),
            None => row.check.clone(),
        });
        case.push_attribute(("classname", classname.as_str()));
        case.push_attribute(("name", name.as_str()));
        case.push_attribute(("time", "0"));
        write(&mut writer, Event::Start(case));
        let reason = xml(&(format!(
            "{}: observed {} (source {}){}",
            super::verdict_label(row),
            row.observed,
            row.source,
            row.detail.as_ref().map(|d| format!("; {d}")).unwrap_or_default()
        ) + &row
            .waiver
            .as_ref()
            .filter(|w| w.applied)
            .map(|w| format!("; {}", w.describe()))
            .unwrap_or_default()));
        if row.blocking {
            let mut failure = BytesStart::new("failure");
            failure.push_attribute(("message", reason.as_str()));
            failure.push_attribute(("type", row.status.label()));
            write(&mut writer, Event::Start(failure));
            write(&mut writer, Event::Text(BytesText::new(&reason)));
            write(&mut writer, Event::End(BytesEnd::new("failure")));
        } else if row.status == Status::Skipped {
            let mut skip = BytesStart::new("skipped");
            skip.push_attribute(("message", reason.as_str()));
            write(&mut writer, Event::Empty(skip));
        }
        write(&mut writer, Event::Start(BytesStart::new("system-out")));
        write(&mut writer, Event::Text(BytesText::new(&reason)));
        write(&mut writer, Event::End(BytesEnd::new("system-out")));
        write(&mut writer, Event::End(BytesEnd::new("testcase")));
    }
    write(&mut writer, Event::End(BytesEnd::new("testsuite")));
    write(&mut writer, Event::End(BytesEnd::new("testsuites")));
    let mut text = String::from_utf8(writer.into_inner()).expect("quick-xml writes UTF-8");
    text.push('\n');
    text
}
