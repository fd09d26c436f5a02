//! The OpenAPI 3 document, generated from the handlers and their types.

use axum::Json;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::api;
use crate::error::{ErrorBody, ErrorDetail};

#[derive(OpenApi)]
#[openapi(
    info(title = "Attune", description = "Adaptive-learning engine: answers in, learner states and next items out."),
    paths(
        crate::healthz,
        crate::readyz,
        crate::metrics::serve,
        api::post_answers,
        api::get_state,
        api::get_next,
        api::post_items,
        api::get_items,
        api::post_prerequisites,
        api::get_models,
        api::post_serve,
        api::post_learners,
        api::get_learners,
        crate::jobs::create,
        crate::jobs::list,
        crate::jobs::get,
        crate::jobs::cancel,
        crate::cat::create,
        crate::cat::respond,
        crate::cat::trace,
        crate::tutor::create,
        crate::tutor::answer,
        crate::tutor::trace,
        crate::analytics::mastery,
        crate::analytics::at_risk,
        crate::analytics::items,
        crate::analytics::skills,
        crate::analytics::curves,
        crate::import::import,
        crate::xapi::post,
        crate::xapi::put,
        crate::xapi::get,
        crate::xapi::about,
    ),
    components(schemas(
        api::AnswerIn,
        api::AnswersOut,
        api::AnswerResult,
        api::ModelRef,
        api::StateOut,
        api::NextOut,
        api::PrerequisiteOut,
        api::ItemIn,
        api::PrerequisiteIn,
        api::StoredOut,
        api::ModelVersionOut,
        api::LearnerIn,
        api::LearnerOut,
        crate::jobs::JobIn,
        crate::cat::CatIn,
        crate::cat::StopRule,
        crate::cat::CatStep,
        crate::cat::CatOut,
        crate::cat::CatTraceOut,
        crate::cat::CatResponseIn,
        crate::tutor::TutoringIn,
        crate::tutor::TutoringAnswerIn,
        crate::tutor::Suggestion,
        crate::tutor::WeakPrerequisite,
        crate::tutor::TutoringStep,
        crate::tutor::TutoringOut,
        crate::tutor::TutoringTraceOut,
        crate::analytics::SkillMastery,
        crate::analytics::ClassMasteryOut,
        crate::analytics::AtRiskLearner,
        crate::analytics::AtRiskOut,
        crate::analytics::ItemsOut,
        crate::analytics::SkillsOut,
        crate::analytics::CurveOut,
        crate::import::ImportOut,
        ErrorBody,
        ErrorDetail,
    )),
    modifiers(&Bearer),
)]
pub(crate) struct ApiDoc;

/// The `bearer` security scheme the routes name.
struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme("bearer", SecurityScheme::Http(Http::new(HttpAuthScheme::Bearer)));
        // xAPI clients send the key as Basic credentials: public id and secret.
        components.add_security_scheme("basic", SecurityScheme::Http(Http::new(HttpAuthScheme::Basic)));
    }
}

/// `GET /openapi.json`.
pub(crate) async fn serve() -> Json<utoipa::openapi::OpenApi> {
    Json(ApiDoc::openapi())
}
